import { json, NextFunction, Request, RequestHandler, Response } from 'express';

/** The routes that take a bulk body: JSON on /jobs, text/csv on both. */
const CSV_ROUTES = new Set(['/jobs', '/evaluate']);

/** A POST whose CSV body the route reads itself, as a stream (see readCsvTexts): not for the JSON-only check. */
export function isBulkCsvPost(req: Request): boolean {
  return req.method === 'POST' && CSV_ROUTES.has(req.path) && req.is('text/csv') === 'text/csv';
}

/**
 * POST /jobs's JSON parser, mounted before the global one: 100,000 texts need JOBS_BODY_LIMIT
 * (tens of MB) where /predict keeps BODY_LIMIT (512 kB). The global parser then sees the body
 * already read and passes.
 */
export function bulkJsonParser(limit: string): RequestHandler {
  const parse = json({ limit, strict: true });
  return (req: Request, res: Response, next: NextFunction) => (req.method === 'POST' && req.path === '/jobs' ? parse(req, res, next) : next());
}
