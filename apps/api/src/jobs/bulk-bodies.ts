import type { Request } from 'express';

/** The routes that take a bulk body: JSON on /jobs, text/csv on both. */
const CSV_ROUTES = new Set(['/jobs', '/evaluate']);

/** A POST whose CSV body the route reads itself, as a stream (see readCsvTexts): not for the JSON-only check. */
export function isBulkCsvPost(req: Request): boolean {
  return req.method === 'POST' && CSV_ROUTES.has(req.path) && req.is('text/csv') === 'text/csv';
}

/** POST /jobs with a JSON body: read with JOBS_BODY_LIMIT instead of BODY_LIMIT (see configureApp). */
export function bulkJsonPost(req: Request): boolean {
  return req.method === 'POST' && req.path === '/jobs';
}
