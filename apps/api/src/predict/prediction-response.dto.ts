import { ApiProperty } from '@nestjs/swagger';

export class PredictionDto {
  @ApiProperty({ example: 'Transfer learning with transformers for text classification.' })
  input_text: string;

  @ApiProperty({ example: 'natural-language-processing' })
  predicted_tag: string;

  @ApiProperty({
    example: { 'natural-language-processing': 0.94, 'computer-vision': 0.02, mlops: 0.01, other: 0.03 },
    additionalProperties: { type: 'number' },
  })
  predicted_probabilities: Record<string, number>;
}

class PredictionsDataDto {
  @ApiProperty({ type: [PredictionDto] })
  predictions: PredictionDto[];

  @ApiProperty({
    description:
      "The model that answered: its artifact's DVC hash (`<md5>.dir`, as `/performance` reports it). One request is always answered by one version; also sent as the `X-Model-Version` header.",
    example: 'a8ca52859b7ad3f2c5ba4ef4d13e2f35.dir',
  })
  model_version: string;
}

export class PredictResponseDto {
  @ApiProperty({ example: 'OK' }) message: string;
  @ApiProperty({ example: 'POST' }) method: string;
  @ApiProperty({ name: 'status-code', example: 200 }) 'status-code': number;
  @ApiProperty({ example: '2026-01-01T00:00:00.000Z' }) timestamp: string;
  @ApiProperty({ example: '/predict' }) url: string;
  @ApiProperty({ type: PredictionsDataDto }) data: PredictionsDataDto;
}

export class ErrorResponseDto {
  @ApiProperty({ example: 'Unprocessable Entity' }) message: string;
  @ApiProperty({ name: 'status-code', example: 422 }) 'status-code': number;
  @ApiProperty({ example: 'texts must contain at least one item' }) error: string;
}
