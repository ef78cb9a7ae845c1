import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfigService } from '@tagserve/config';
import { QueueConnection } from './queue-connection.service';

/**
 * Confirms that the gateway's writes reached QUEUE_ADD_REPLICA_ACKS replicas (Redis WAIT). Redis
 * replicates asynchronously: a job the master acknowledged and then died with is missing on the
 * replica Sentinel promotes. WAIT on the producer connection covers every write that connection
 * made before it, so one WAIT confirms all the adds that finished before it was sent.
 *
 * WAIT blocks the connection it runs on (the gateway's only producer connection) until the acks
 * come or QUEUE_ADD_REPLICA_ACK_MS passes. So at most one runs at a time, and callers arriving
 * meanwhile share the next one (group commit): with no replica connected, a request waits at most
 * two WAIT timeouts, and the connection does not serialize one timeout per add.
 */
@Injectable()
export class ReplicaAcks {
  readonly wanted: number;
  private readonly timeoutMs: number;
  private running?: Promise<number>;
  private next?: Promise<number>;

  constructor(
    private readonly connection: QueueConnection,
    @Inject(ConfigService) config: TagserveConfigService,
  ) {
    this.wanted = config.get('QUEUE_ADD_REPLICA_ACKS');
    this.timeoutMs = config.get('QUEUE_ADD_REPLICA_ACK_MS');
  }

  /**
   * True if every write this connection finished before the call is on `wanted` replicas. False
   * on too few acks, on any error, and when the connection was re-established since `generation`
   * (then the WAIT ran on another connection, maybe to another master, and proves nothing).
   */
  async confirm(generation: number): Promise<boolean> {
    const acked = await this.shared().catch(() => 0);
    return acked >= this.wanted && this.connection.generation === generation;
  }

  private shared(): Promise<number> {
    if (!this.running) return (this.running = this.wait());
    // The running WAIT may have been sent before this caller's add finished: take the next one.
    this.next ??= this.running
      .catch(() => 0)
      .then(() => {
        this.next = undefined;
        return (this.running = this.wait());
      });
    return this.next;
  }

  private wait(): Promise<number> {
    const run = this.connection.client().then((client) => client.wait(this.wanted, this.timeoutMs));
    this.running = run;
    void run
      .catch(() => 0)
      .then(() => {
        if (this.running === run) this.running = undefined;
      });
    return run;
  }
}
