import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayNotEmpty, IsArray, IsNotEmpty, IsString, Matches, ValidateNested } from 'class-validator';

export class TextInputDto {
  @ApiProperty({ example: 'Transfer learning with transformers for text classification.', description: 'Project title and description.' })
  @IsString({ message: 'text must be a string' })
  @IsNotEmpty({ message: 'text must not be empty' })
  @Matches(/\S/, { message: 'text must not be blank' })
  text: string;
}

/** Size limits (count, length) are configurable, so PredictionLimits checks them after this shape check. */
export class PredictRequestDto {
  @ApiProperty({ type: [TextInputDto], description: 'Texts to tag (at most MAX_TEXTS, each at most MAX_TEXT_LENGTH characters).' })
  @IsArray({ message: 'texts must be an array of {"text": string} objects' })
  @ArrayNotEmpty({ message: 'texts must contain at least one item' })
  @ValidateNested({ each: true, message: 'each item of texts must be an object like {"text": "..."}' })
  @Type(() => TextInputDto)
  texts: TextInputDto[];
}
