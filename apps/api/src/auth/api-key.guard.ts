import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfig } from '@tagserve/config';
import type { Request } from 'express';
import { HealthController } from '../health/health.controller';
import { MetricsController } from '../metrics/metrics.controller';
import { ApiKeys } from './api-keys';

/** Realm named in WWW-Authenticate (RFC 6750 §3). */
const REALM = 'tagserve';

/**
 * With API keys configured, every route but /health/* (probes carry no credentials) and, when
 * METRICS_PUBLIC, /metrics needs `Authorization: Bearer <key>`; otherwise 401 + WWW-Authenticate.
 * The presented key is never logged or echoed: the answer says only what was wrong.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly metricsPublic: boolean;

  constructor(
    private readonly keys: ApiKeys,
    config: ConfigService<TagserveConfig, true>,
  ) {
    this.metricsPublic = config.get('METRICS_PUBLIC');
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.keys.enabled || context.getType() !== 'http') return true;
    // By the controller the route resolved to, not by the path: express matches paths
    // case-insensitively and ignores a trailing slash, so a path test would drift from routing.
    const controller = context.getClass();
    if (controller === HealthController || (this.metricsPublic && controller === MetricsController)) return true;
    const req = context.switchToHttp().getRequest<Request>();
    if (this.keys.identify(req)) return true;
    const presented = req.headers.authorization !== undefined;
    // RFC 6750: no credentials -> just the challenge; wrong ones -> error="invalid_token".
    const challenge = presented ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
    throw new UnauthorizedException({
      message: presented ? 'invalid API key' : 'an API key is required: Authorization: Bearer <key>',
      headers: { 'WWW-Authenticate': challenge },
    });
  }
}
