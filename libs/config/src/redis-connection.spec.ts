import { validateConfig } from './config.schema';
import { consumerConnection, parseSentinels, producerConnection } from './redis-connection';

describe('Redis connection options', () => {
  it('parses REDIS_SENTINELS, IPv6 in brackets included', () => {
    expect(parseSentinels(' s0:26379, [::1]:26380 ,')).toEqual([
      { host: 's0', port: 26379 },
      { host: '::1', port: 26380 },
    ]);
    expect(parseSentinels('')).toEqual([]);
  });

  it('connects to REDIS_HOST directly without sentinels', () => {
    const options = consumerConnection(validateConfig({ REDIS_HOST: 'redis', REDIS_PORT: '6380' }));
    expect(options).toMatchObject({ host: 'redis', port: 6380, maxRetriesPerRequest: null });
    expect(options.sentinels).toBeUndefined();
  });

  it('asks the sentinels for the master, for the producer and the consumer alike', () => {
    const config = validateConfig({ REDIS_SENTINELS: 's0:26379,s1:26379', REDIS_SENTINEL_NAME: 'queue', REDIS_SENTINEL_PASSWORD: 'sp', REDIS_PASSWORD: 'rp' });
    for (const options of [producerConnection(config), consumerConnection(config)]) {
      expect(options).toMatchObject({ name: 'queue', role: 'master', sentinelPassword: 'sp', password: 'rp' });
      expect(options.sentinels).toEqual([
        { host: 's0', port: 26379 },
        { host: 's1', port: 26379 },
      ]);
      expect(options.host).toBeUndefined();
    }
    expect(producerConnection(config)).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  });
});
