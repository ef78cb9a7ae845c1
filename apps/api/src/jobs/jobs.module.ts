import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { BULK_QUEUE } from '@tagserve/queue';
import { BulkRequestReader } from './bulk-request.reader';
import { EvaluateController } from './evaluate.controller';
import { JobsController } from './jobs.controller';
import { BULK_FLOW, JobsService } from './jobs.service';

/** POST /jobs, GET/DELETE /jobs/{id}, GET /jobs/{id}/result.csv, POST /evaluate (bulk jobs as BullMQ flows). */
@Module({
  // The connection (fail fast, as every producer of the gateway) comes from BullModule.forRootAsync.
  imports: [BullModule.registerQueue({ name: BULK_QUEUE }), BullModule.registerFlowProducer({ name: BULK_FLOW })],
  controllers: [JobsController, EvaluateController],
  providers: [JobsService, BulkRequestReader],
})
export class JobsModule {}
