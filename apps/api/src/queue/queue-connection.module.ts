import { Global, Module } from '@nestjs/common';
import { PredictionQueueModule } from '@tagserve/queue';
import { QueueConnection } from './queue-connection.service';

@Global()
@Module({
  imports: [PredictionQueueModule],
  providers: [QueueConnection],
  exports: [QueueConnection],
})
export class QueueConnectionModule {}
