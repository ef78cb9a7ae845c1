import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import type { TagserveConfig } from '@tagserve/config';
import { HitWindowStorage } from './hit-window.storage';

/** The gateway's rate limit: THROTTLE_LIMIT requests per THROTTLE_TTL_MS per tracker, in a storage that costs O(1) a request. */
export function throttlerOptions(settings: Pick<TagserveConfig, 'THROTTLE_TTL_MS' | 'THROTTLE_LIMIT'>): ThrottlerModuleOptions {
  return { throttlers: [{ ttl: settings.THROTTLE_TTL_MS, limit: settings.THROTTLE_LIMIT }], storage: new HitWindowStorage() };
}
