import { Inject, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfigService } from '@tagserve/config';
import { countWorkersByVersion, ModelInfo, modelInfoKey, modelWorkersKey, parseModelInfo, pickKey, SERVING_WORKERS_LUA } from '@tagserve/queue';
import { QueueConnection } from '../queue/queue-connection.service';

/** One version served right now, with how many workers serve it. */
export interface ServedVersion {
  info: ModelInfo;
  workers: number;
}

/** What /performance and /args describe: the versions served right now, most served first. */
export interface ServedModels {
  /** The version the request asked for, else the one most workers serve (ties: by version). */
  primary: ServedVersion;
  /** Every version served right now (only the asked one with ?version=). */
  versions: ServedVersion[];
}

const RETRY = { 'Retry-After': '5' };

/** Reads what the workers published about the versions they serve (the gateway never loads a model). */
@Injectable()
export class ModelInfoService {
  private readonly prefix: string;

  constructor(
    private readonly connection: QueueConnection,
    @Inject(ConfigService) config: TagserveConfigService,
  ) {
    this.prefix = config.get('QUEUE_PREFIX');
  }

  /** The versions served right now; 404 for a `version` no worker serves, 503 while nothing is published. */
  async served(version?: string): Promise<ServedModels> {
    const { counts, infos } = await this.connection.run(async () => {
      const client = await this.connection.client();
      const members = (await client.eval(SERVING_WORKERS_LUA, 1, modelWorkersKey(this.prefix))) as string[];
      const counts = countWorkersByVersion(members);
      const infos = counts.length ? await client.mget(...counts.map((c) => modelInfoKey(this.prefix, c.version))) : [];
      return { counts, infos };
    });
    // Workers republish their entries and info after every reconnect, on timers, and as soon as a beat finds the info gone.
    if (counts.length === 0) throw new ServiceUnavailableException({ message: 'No worker is serving a model right now, retry shortly', headers: RETRY });
    if (version !== undefined && !counts.some((c) => c.version === version)) {
      throw new NotFoundException(`Model version ${version} is not served right now (served: ${counts.map((c) => c.version).join(', ')})`);
    }
    const versions: ServedVersion[] = [];
    counts.forEach(({ version: v, workers }, i) => {
      const info = infos[i] ? parseModelInfo(infos[i]) : undefined;
      // A version whose info is missing for a moment (Redis just lost it) is left out until its workers republish it.
      if (info && (version === undefined || v === version)) versions.push({ info, workers });
    });
    if (versions.length === 0) {
      throw new ServiceUnavailableException({ message: 'The served model info is not published yet; a worker will republish it shortly', headers: RETRY });
    }
    return { primary: versions[0], versions };
  }
}

/**
 * `key` (a top-level key such as `overall`, `class`, `slices`, or a dotted path such as
 * `class.mlops`) of `field` in every listed version; 404 when no listed version has it, as the
 * original API's filters do not say which keys exist.
 */
export function pickFromVersions(served: ServedModels, field: 'performance' | 'args', key: string): Map<ServedVersion, unknown> {
  const picked = new Map(served.versions.map((v) => [v, pickKey(v.info[field], key)] as const));
  if ([...picked.values()].every((value) => value === undefined)) {
    const keys = Object.keys(served.primary.info[field]).join(', ');
    throw new NotFoundException(`${field} has no key '${key}' (keys of ${served.primary.info.version}: ${keys})`);
  }
  return picked;
}
