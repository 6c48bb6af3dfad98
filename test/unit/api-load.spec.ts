import { ApiLoad } from '../../src/metrics/api-load';

describe('ApiLoad', () => {
  it('counts the requests begun in the last second, in 100 ms buckets', () => {
    const load = new ApiLoad();
    for (let i = 0; i < 5; i++) load.began(10_000);
    for (let i = 0; i < 3; i++) load.began(10_450);
    expect(load.lastSecond(10_500)).toBe(8);
    expect(load.lastSecond(10_999)).toBe(8);
    // The 10,000 ms bucket has left the window; the 10,400 ms one has not.
    expect(load.lastSecond(11_000)).toBe(3);
    expect(load.lastSecond(11_400)).toBe(0);
    // A slot reused a second later starts again from zero.
    load.began(11_050);
    expect(load.lastSecond(11_100)).toBe(1 + 3);
    expect(load.lastSecond(11_500)).toBe(1);
  });
});
