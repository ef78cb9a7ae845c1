import { Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TagserveConfig, validateConfig } from './config.schema';

/** A ConfigService whose `get` is typed by the validated schema. */
export type TagserveConfigService = ConfigService<TagserveConfig, true>;

@Global()
@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      // .env is for local runs; in containers the environment comes from compose.
      envFilePath: ['.env'],
      validate: validateConfig,
    }),
  ],
})
export class TagserveConfigModule {}

/** Some validated settings as one typed object, e.g. for a function that takes a Pick<TagserveConfig, …>. */
export function pickSettings<K extends keyof TagserveConfig>(config: TagserveConfigService, ...keys: K[]): Pick<TagserveConfig, K> {
  return Object.fromEntries(keys.map((key) => [key, config.get(key)])) as unknown as Pick<TagserveConfig, K>;
}
