import { Logger } from '@nestjs/common';
import { ANNOUNCE_WORKER_LUA, ModelInfo, modelInfoKey, modelWorkersKey, workerEntry } from '@tagserve/queue';
import type { Redis } from 'ioredis';
import type { ServedModel } from '../model/served-model';

export interface ModelPresenceOptions {
  prefix: string;
  workerId: string;
  /** How often the worker's entry is refreshed (WORKER_HEARTBEAT_MS); it stops counting after 3 beats missed. */
  beatMs: number;
  /** How often the version's info is republished (MODEL_INFO_REFRESH_MS); it expires after 3 missed. */
  refreshMs: number;
}

/**
 * Publishes what this worker serves, so the gateway can tell which versions are served right now
 * and by how many workers: the version's info (one key per version) and this worker's entry in
 * the workers set. Both are rewritten after every reconnect and on timers, and a beat that finds
 * the info gone (Redis restarted empty, FLUSHALL) republishes it at once, so /performance and
 * /args come back within one beat, not one refresh period.
 */
export class ModelPresence {
  private readonly logger = new Logger(ModelPresence.name);
  private readonly infoKey: string;
  private readonly workersKey: string;
  private readonly entry: string;
  private timers: NodeJS.Timeout[] = [];
  private withdrawn = false;

  constructor(
    private readonly client: Redis,
    private readonly model: ServedModel,
    private readonly options: ModelPresenceOptions,
    /** Serving right now (running, not closing, connected): only then does the entry count. */
    private readonly serving: () => boolean,
    private readonly onError: (err: Error) => void,
  ) {
    this.infoKey = modelInfoKey(options.prefix, model.version);
    this.workersKey = modelWorkersKey(options.prefix);
    this.entry = workerEntry(model.version, options.workerId);
  }

  /** Publishes the info now, and keeps info and entry fresh from here on. */
  async start(): Promise<void> {
    this.client.on('ready', () => void this.publishInfo().then(() => this.beat()));
    await this.publishInfo();
    const beat = setInterval(() => void this.beat(), this.options.beatMs);
    const refresh = setInterval(() => void this.publishInfo(), this.options.refreshMs);
    this.timers = [beat, refresh];
    for (const timer of this.timers) timer.unref();
  }

  /** Called once the BullMQ worker takes jobs: from now on the gateway counts this worker. */
  async beat(): Promise<void> {
    if (this.withdrawn || !this.serving() || this.client.status !== 'ready') return;
    // The entry's time to live: 3 beats, as the container healthcheck allows the heartbeat file.
    const infoPresent = await this.client
      .eval(ANNOUNCE_WORKER_LUA, 2, this.workersKey, this.infoKey, this.entry, this.options.beatMs * 3, this.options.refreshMs * 3)
      .catch((err: Error) => (this.onError(err), undefined));
    if (infoPresent === 0) {
      this.logger.log({ msg: 'model info was gone from Redis, republished', version: this.model.version });
      await this.publishInfo();
    }
  }

  /**
   * On SIGTERM, before draining: the gateway stops counting this worker at once (it takes no new
   * jobs). Bounded, since Redis may be down; the entry then expires by itself after 3 beats.
   */
  async withdraw(boundMs: number): Promise<void> {
    this.withdrawn = true;
    for (const timer of this.timers) clearInterval(timer);
    if (this.client.status !== 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.client.zrem(this.workersKey, this.entry).catch((err: Error) => this.onError(err)),
      new Promise((resolve) => (timer = setTimeout(resolve, boundMs))),
    ]);
    clearTimeout(timer);
  }

  private async publishInfo(): Promise<void> {
    if (this.withdrawn || this.client.status !== 'ready') return;
    const served = this.model;
    const info: ModelInfo = {
      version: served.version,
      labels: served.info.labels,
      args: served.info.args,
      performance: served.info.performance,
      loadedAt: served.loadedAt,
    };
    await this.client.set(this.infoKey, JSON.stringify(info), 'PX', this.options.refreshMs * 3).catch((err: Error) => this.onError(err));
  }
}
