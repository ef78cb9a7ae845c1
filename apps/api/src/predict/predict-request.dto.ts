import { ApiProperty } from '@nestjs/swagger';

/**
 * The request schema in the OpenAPI document. Validation is PredictRequestPipe's, on the parsed
 * JSON; the configured limits (MAX_TEXTS, MAX_TEXT_LENGTH) and `additionalProperties: false` are
 * written into this schema when the document is built (see http/openapi.ts).
 */
export class TextInputDto {
  @ApiProperty({
    example: 'Transfer learning with transformers for text classification.',
    description: 'Project title and description: not blank, at most MAX_TEXT_LENGTH characters (code points).',
    minLength: 1,
    pattern: '\\S',
  })
  text: string;
}

export class PredictRequestDto {
  @ApiProperty({ type: [TextInputDto], minItems: 1, description: 'Texts to tag, at most MAX_TEXTS.' })
  texts: TextInputDto[];
}
