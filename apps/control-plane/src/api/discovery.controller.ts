import { createHash } from 'node:crypto';
import { Controller, Get, Header } from '@nestjs/common';
import { API_GROUP, API_VERSION, buildApiGroup, buildApiGroupList, buildApiResourceList, buildOpenApiV3, buildOpenApiV3Index, OPENAPI_V3_PATH } from '@pressluft/domain';
import { Public } from '../auth/auth.guard.js';

/** Discovery and OpenAPI, as kubectl and @kubernetes/client-node look for them. Built once. */
@Controller()
export class DiscoveryController {
  private readonly openApi = JSON.stringify(buildOpenApiV3());
  private readonly openApiHash = createHash('sha256').update(this.openApi).digest('hex').slice(0, 16).toUpperCase();
  private readonly resources = buildApiResourceList();

  @Public()
  @Get('version')
  version(): Record<string, string> {
    return { major: '1', minor: '32', gitVersion: 'v1.32.0+pressluft.0.1.0', platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}` };
  }

  @Get('api')
  coreApi(): Record<string, unknown> {
    return { kind: 'APIVersions', versions: [], serverAddressByClientCIDRs: [] };
  }

  @Get('apis')
  groups(): Record<string, unknown> {
    return buildApiGroupList();
  }

  @Get(`apis/${API_GROUP}`)
  group(): Record<string, unknown> {
    return buildApiGroup();
  }

  @Get(`apis/${API_GROUP}/${API_VERSION}`)
  resourceList(): Record<string, unknown> {
    return this.resources;
  }

  @Get('openapi/v3')
  openApiIndex(): Record<string, unknown> {
    return buildOpenApiV3Index(this.openApiHash);
  }

  @Get(`openapi/v3/${OPENAPI_V3_PATH}`)
  @Header('Content-Type', 'application/json')
  openApiDocument(): string {
    return this.openApi;
  }

  @Get('openapi.json')
  @Header('Content-Type', 'application/json')
  openApiJson(): string {
    return this.openApi;
  }
}
