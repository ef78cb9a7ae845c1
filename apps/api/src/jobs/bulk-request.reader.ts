import { HttpException, Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfigService } from '@tagserve/config';
import type { BulkKind } from '@tagserve/queue';
import type { Request, Response } from 'express';
import type { Readable } from 'node:stream';
import { decodedBody, parseByteSize } from '../http/json-body';
import { assertUtf8Charset, BulkInput, BulkInputError, BulkLimits, readCsvTexts, readJsonTexts } from './bulk-input';

/** Reads the body of POST /jobs and /evaluate with the configured limits. */
@Injectable()
export class BulkRequestReader {
  readonly limits: BulkLimits;

  constructor(@Inject(ConfigService) config: TagserveConfigService) {
    this.limits = {
      maxTexts: config.get('JOBS_MAX_TEXTS'),
      maxTextLength: config.get('MAX_TEXT_LENGTH'),
      maxBytes: parseByteSize(config.get('JOBS_BODY_LIMIT')),
    };
  }

  /** The body as texts (and tags for evaluate): a streamed CSV or, for /jobs, parsed JSON. */
  async read(req: Request, res: Response, kind: BulkKind): Promise<BulkInput> {
    try {
      if (req.is('text/csv')) {
        assertUtf8Charset(req.headers['content-type']);
        return await readCsvTexts(this.decoded(req), this.limits, kind === 'evaluate');
      }
      if (kind === 'evaluate')
        throw new BulkInputError(
          415,
          `Content-Type must be text/csv (a labelled CSV with title, description and tag columns), got ${req.headers['content-type'] ?? 'none'}`,
        );
      if (!req.is('application/json'))
        throw new BulkInputError(415, `Content-Type must be application/json or text/csv, got ${req.headers['content-type'] ?? 'none'}`);
      return readJsonTexts(req.body, this.limits);
    } catch (err) {
      if (!(err instanceof BulkInputError)) throw err;
      // The rest of a refused body is not read: close the connection instead of draining it.
      res.setHeader('Connection', 'close');
      throw new HttpException(err.message, err.status);
    }
  }

  /**
   * The CSV body, decompressed (gzip, deflate, br, as JSON bodies): JOBS_BODY_LIMIT counts the
   * decompressed bytes, so a small bomb is stopped at the limit. A declared Content-Length over
   * the limit is refused at once, before reading (as JSON bodies are).
   */
  private decoded(req: Request): Readable {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.limits.maxBytes)
      throw new BulkInputError(413, `CSV body is larger than ${this.limits.maxBytes} bytes (Content-Length ${declared})`);
    const body = decodedBody(req);
    if (typeof body === 'string') throw new BulkInputError(415, body);
    return body;
  }
}
