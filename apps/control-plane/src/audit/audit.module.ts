import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller.js';

/** Reading the audit log (its rows are written by AuditMiddleware and the mutations' own transactions). */
@Module({ controllers: [AuditController] })
export class AuditModule {}
