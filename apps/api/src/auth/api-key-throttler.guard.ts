import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectThrottlerOptions, InjectThrottlerStorage, ThrottlerGuard, ThrottlerModuleOptions, ThrottlerStorage } from '@nestjs/throttler';
import { ApiKeys } from './api-keys';

/**
 * Rate limit per API key instead of per IP: clients behind one proxy or NAT would otherwise share
 * one budget, and one client spreading over addresses would get several. Requests without a
 * valid key (including wrong-key guesses) stay limited per IP.
 */
@Injectable()
export class ApiKeyThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly keys: ApiKeys,
  ) {
    super(options, storage, reflector);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ThrottlerGuard's own signature
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const id = this.keys.enabled ? this.keys.identify(req as { headers: Record<string, string> }) : null;
    return id ? `key:${id}` : super.getTracker(req);
  }
}
