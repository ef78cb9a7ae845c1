import { characterCount, predictRequestProblems } from './predict-request.pipe';

const limits = { maxTexts: 3, maxTextLength: 5 };

describe('predictRequestProblems', () => {
  it('accepts a valid body', () => {
    expect(predictRequestProblems({ texts: [{ text: 'a' }, { text: '🤖🤖🤖🤖🤖' }] }, limits)).toEqual([]);
  });

  it('refuses items that are not plain objects, nested arrays included', () => {
    for (const item of [['a'], [[{ text: 'a' }]], null, 'a', 1, true]) {
      expect(predictRequestProblems({ texts: [item] }, limits)).toEqual(['texts[0] must be an object like {"text": "..."}']);
    }
  });

  it('sees prototype-named keys from JSON.parse as own, unknown fields', () => {
    const body = JSON.parse('{"texts":[{"text":"a","__proto__":{"x":1},"constructor":1,"toString":2}],"valueOf":3}');
    expect(predictRequestProblems(body, limits)).toEqual([
      'property valueOf should not exist',
      'property texts[0].__proto__ should not exist',
      'property texts[0].constructor should not exist',
      'property texts[0].toString should not exist',
    ]);
  });

  it('checks the count before looking at any item', () => {
    expect(predictRequestProblems({ texts: [1, 2, 3, 4] }, limits)).toEqual(['texts must contain at most 3 items (got 4)']);
  });

  it('counts characters as code points', () => {
    expect(characterCount('🤖🤖')).toBe(2);
    expect(characterCount('\ud83d')).toBe(1); // a lone surrogate is one character
    expect(characterCount('a\udfff\ud83d')).toBe(3);
    expect(predictRequestProblems({ texts: [{ text: '🤖'.repeat(6) }] }, limits)).toEqual(['texts[0].text must be at most 5 characters (got 6)']);
  });

  it('names empty, blank and non-string texts', () => {
    expect(predictRequestProblems({ texts: [{ text: '' }, { text: ' \n' }, { text: 1 }, {}] }, { ...limits, maxTexts: 4 })).toEqual([
      'texts[0].text must not be empty',
      'texts[1].text must not be blank',
      'texts[2].text must be a string',
      'texts[3].text must be a string',
    ]);
  });

  it('quotes odd keys and cuts long ones', () => {
    const [problem] = predictRequestProblems({ texts: [{ text: 'a', ['k'.repeat(1000)]: 1 }] }, limits);
    expect(problem.length).toBeLessThan(80);
  });
});
