import { Global, Module } from '@nestjs/common';
import { PredictionQueueModule } from '@tagserve/queue';
import { QueueConnection } from './queue-connection.service';
import { ReplicaAcks } from './replica-acks';

@Global()
@Module({
  imports: [PredictionQueueModule],
  providers: [QueueConnection, ReplicaAcks],
  exports: [QueueConnection, ReplicaAcks],
})
export class QueueConnectionModule {}
