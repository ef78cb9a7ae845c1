import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable } from 'rxjs';
import { MetricsService } from './metrics.service';

/** Times every routed request until its response is sent, whatever the outcome. */
@Injectable()
export class HttpMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: MetricsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const route = (req.route?.path as string | undefined) ?? 'unmatched';
    const stop = this.metrics.httpDuration.startTimer({ method: req.method, route });
    res.once('finish', () => stop({ status: String(res.statusCode) }));
    return next.handle();
  }
}
