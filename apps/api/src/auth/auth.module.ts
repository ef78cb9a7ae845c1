import { Global, Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfig } from '@tagserve/config';
import { ApiKeys } from './api-keys';

/** Loads the API keys once at start-up (a bad key file stops the gateway with its reason). */
@Global()
@Module({
  providers: [
    {
      provide: ApiKeys,
      inject: [ConfigService],
      useFactory: (config: ConfigService<TagserveConfig, true>) => {
        const keys = ApiKeys.fromConfig({ API_KEYS: config.get('API_KEYS'), API_KEYS_FILE: config.get('API_KEYS_FILE') });
        new Logger('ApiKeys').log(keys.enabled ? `API keys required (${keys.count} key(s))` : 'API keys off: the API is open to anyone who reaches it');
        return keys;
      },
    },
  ],
  exports: [ApiKeys],
})
export class AuthModule {}
