import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from '../auth/auth.guard.js';
import { ReadinessService, type Readiness } from './readiness.service.js';

@Public()
@Controller()
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  /** Liveness: the process serves HTTP. Dependencies do not matter here. */
  @Get('healthz')
  @HttpCode(200)
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: 200 only while PostgreSQL and JetStream answer; 503 with the failing checks. */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) response: Response): Promise<Readiness> {
    const result = await this.readiness.check();
    response.status(result.ready ? 200 : 503);
    return result;
  }
}
