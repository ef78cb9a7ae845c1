import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfigService } from '@tagserve/config';
import { ModelInfo, modelInfoKey, parseModelInfo } from '@tagserve/queue';
import { QueueConnection } from '../queue/queue-connection.service';

/** Reads what the workers published about the loaded artifact (the gateway never loads the model). */
@Injectable()
export class ModelInfoService {
  private readonly key: string;

  constructor(
    private readonly connection: QueueConnection,
    @Inject(ConfigService) config: TagserveConfigService,
  ) {
    this.key = modelInfoKey(config.get('QUEUE_PREFIX'));
  }

  async get(): Promise<ModelInfo> {
    const raw = await this.connection.run(async () => (await this.connection.client()).get(this.key));
    // Workers republish what they serve every MODEL_INFO_REFRESH_MS and after every reconnect.
    if (!raw) throw new ServiceUnavailableException({ message: 'No worker has published its model yet, retry shortly', headers: { 'Retry-After': '5' } });
    const info = parseModelInfo(raw);
    if (!info) throw new ServiceUnavailableException({ message: 'The published model info is unreadable; a worker will republish it shortly', headers: { 'Retry-After': '5' } });
    return info;
  }
}
