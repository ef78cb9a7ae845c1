import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfig } from '@tagserve/config';
import { ModelInfo, modelInfoKey } from '@tagserve/queue';
import { QueueConnection } from '../queue/queue-connection.service';

/** Reads what the workers published about the loaded artifact (the gateway never loads the model). */
@Injectable()
export class ModelInfoService {
  private readonly key: string;

  constructor(private readonly connection: QueueConnection, config: ConfigService<TagserveConfig, true>) {
    this.key = modelInfoKey(config.get('QUEUE_PREFIX'));
  }

  async get(): Promise<ModelInfo> {
    const client = await this.connection.client();
    const raw = await this.connection.run(() => client.get(this.key));
    if (!raw) throw new ServiceUnavailableException('No worker has loaded a model yet');
    return JSON.parse(raw) as ModelInfo;
  }
}
