import { QueueEventsHost, QueueEventsListener } from '@nestjs/bullmq';
import { PREDICTION_QUEUE } from '@tagserve/queue';

/** The gateway's QueueEvents stream: completion notices that waiting requests listen for. */
@QueueEventsListener(PREDICTION_QUEUE)
export class PredictionEvents extends QueueEventsHost {}
