import { Injectable, PipeTransform, UnprocessableEntityException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfig } from '@tagserve/config';

/** The body of POST /predict once validated. */
export interface PredictRequest {
  texts: Array<{ text: string }>;
}

export interface PredictLimits {
  maxTexts: number;
  maxTextLength: number;
}

/** An error body lists at most this many problems (39,000 bad items made a 1.87 MB answer). */
export const MAX_LISTED_PROBLEMS = 10;

/**
 * Validates the parsed JSON of POST /predict directly, before anything turns it into objects.
 * class-transformer, which did this before, threw on arrays nested in `texts` (a 500), silently
 * skipped item keys named like Object.prototype members (`__proto__`, `constructor`, `toString`),
 * and walked all 39,000 items of a 507 KB body (1.2 s) before the count limit was looked at.
 * Here the count comes first, every item must be a plain object whose own keys are exactly
 * `text`, and a text's length is counted in characters (code points), not UTF-16 units.
 */
@Injectable()
export class PredictRequestPipe implements PipeTransform<unknown, PredictRequest> {
  private readonly limits: PredictLimits;

  constructor(config: ConfigService<TagserveConfig, true>) {
    this.limits = { maxTexts: config.get('MAX_TEXTS'), maxTextLength: config.get('MAX_TEXT_LENGTH') };
  }

  transform(body: unknown): PredictRequest {
    const problems = predictRequestProblems(body, this.limits);
    if (problems.length === 0) return body as PredictRequest;
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
    const more = problems.length - listed.length;
    throw new UnprocessableEntityException({ message: listed.join('; ') + (more > 0 ? `; and ${more} more` : ''), details: listed });
  }
}

/** Every problem of a request body, in order; empty when it is valid. */
export function predictRequestProblems(body: unknown, { maxTexts, maxTextLength }: PredictLimits): string[] {
  const problems: string[] = [];
  if (!isPlainObject(body)) return ['texts must be an array of {"text": string} objects (the body must be a JSON object)'];
  for (const key of Object.keys(body)) if (key !== 'texts') problems.push(`property ${quoteKey(key)} should not exist`);
  const texts = body.texts;
  if (!Array.isArray(texts)) return [...problems, 'texts must be an array of {"text": string} objects'];
  if (texts.length === 0) return [...problems, 'texts must contain at least one item'];
  // Before any item is looked at: a body of tens of thousands of items costs nothing more to refuse.
  if (texts.length > maxTexts) return [...problems, `texts must contain at most ${maxTexts} items (got ${texts.length})`];
  texts.forEach((item: unknown, i) => {
    if (!isPlainObject(item)) return problems.push(`texts[${i}] must be an object like {"text": "..."}`);
    for (const key of Object.keys(item)) if (key !== 'text') problems.push(`property texts[${i}].${quoteKey(key)} should not exist`);
    const problem = textProblem(item.text, maxTextLength);
    if (problem) problems.push(`texts[${i}].text ${problem}`);
  });
  return problems;
}

function textProblem(text: unknown, maxLength: number): string | undefined {
  if (typeof text !== 'string') return 'must be a string';
  if (text.length === 0) return 'must not be empty';
  // A UTF-16 length within the limit is a character count within it too: count only past it.
  const length = text.length > maxLength ? characterCount(text) : text.length;
  if (length > maxLength) return `must be at most ${maxLength} characters (got ${length})`;
  if (!/\S/.test(text)) return 'must not be blank';
  return undefined;
}

/** Characters as code points: a surrogate pair (e.g. an emoji) is one character, a lone surrogate too. */
export function characterCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** JSON objects only: not arrays, not null, and nothing whose prototype was swapped. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** Keys are client text: quoted and cut short so an error cannot echo a huge or odd key. */
function quoteKey(key: string): string {
  return /^[A-Za-z_$][\w$]{0,39}$/.test(key) ? key : JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
}
