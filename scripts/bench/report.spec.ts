import { fmt, signed } from './report';

describe('bench report numbers', () => {
  it('gives a difference its sign either way, and a missing figure as a dash', () => {
    expect(signed(0.194, 2)).toBe('+0.19');
    expect(signed(0, 2)).toBe('+0.00');
    expect(signed(-0.661, 2)).toBe('-0.66');
    expect(signed(NaN, 2)).toBe('-');
    expect(fmt(Infinity)).toBe('-');
  });
});
