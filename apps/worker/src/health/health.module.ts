import { Module } from '@nestjs/common';
import { PredictionModule } from '../prediction/prediction.module';
import { HeartbeatService } from './heartbeat.service';

@Module({ imports: [PredictionModule], providers: [HeartbeatService], exports: [HeartbeatService] })
export class WorkerHealthModule {}
