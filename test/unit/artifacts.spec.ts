import { ArtifactSources } from '../../src/artifacts/artifact-sources';
import { artifactNames } from '../../src/artifacts/artifact-names';
import { parseRange } from '../../src/artifacts/byte-range';
import { loadAppConfig } from '../../src/config';
import { outputUrls } from '../../src/providers/output-urls';
import { predictionToState } from '../../src/providers/replicate/replicate.provider';

describe('output URLs of a prediction', () => {
  it('are every http(s) URL of a string, a list or an object, in order, each once', () => {
    const a = 'https://replicate.delivery/x/a.safetensors';
    const b = 'https://replicate.delivery/x/b.png';
    expect(outputUrls(a)).toEqual([a]);
    expect(outputUrls([a, b, a])).toEqual([a, b]);
    expect(outputUrls({ weights: a, samples: [{ image: b }], caption: 'a dog', steps: 100, none: null })).toEqual([
      a,
      b,
    ]);
    expect(outputUrls(['file:///etc/passwd', 'data:text/plain,hi', 'ftp://h/x', 'not a url', 'http://h/ok'])).toEqual([
      'http://h/ok',
    ]);
    expect(outputUrls(null)).toEqual([]);
  });

  it('are read from a Replicate prediction beside its first output', () => {
    const state = predictionToState({
      id: 'p1',
      status: 'succeeded',
      output: { weights: 'https://replicate.delivery/p1/w.safetensors', log: 'done' },
    });
    expect(state.outputUrls).toEqual(['https://replicate.delivery/p1/w.safetensors']);
  });
});

describe('artifact names', () => {
  it('come from the last path segment, made safe, unique within the job', () => {
    expect(
      artifactNames([
        'https://h/a/model.safetensors',
        'https://h/b/model.safetensors',
        'https://h/c/model.safetensors?sig=1',
        'https://h/d/my%20image%20(1).png',
        'https://h/e/../.hidden',
        'https://h/',
      ]),
    ).toEqual([
      'model.safetensors',
      'model-2.safetensors',
      'model-3.safetensors',
      'my_image_1_.png',
      'hidden',
      'output',
    ]);
  });
});

describe('a download range', () => {
  it('serves one range, capped at the end; ignores what it does not serve; refuses a start past the end', () => {
    expect(parseRange(undefined, 100)).toEqual({ kind: 'whole' });
    expect(parseRange('bytes=10-19', 100)).toEqual({ kind: 'partial', range: { start: 10, end: 19 } });
    expect(parseRange('bytes=90-', 100)).toEqual({ kind: 'partial', range: { start: 90, end: 99 } });
    expect(parseRange('bytes=90-500', 100)).toEqual({ kind: 'partial', range: { start: 90, end: 99 } });
    expect(parseRange('bytes=-5', 100)).toEqual({ kind: 'partial', range: { start: 95, end: 99 } });
    expect(parseRange('bytes=-500', 100)).toEqual({ kind: 'partial', range: { start: 0, end: 99 } });
    expect(parseRange('bytes=0-1,5-6', 100)).toEqual({ kind: 'whole' });
    expect(parseRange('bytes=9-3', 100)).toEqual({ kind: 'whole' });
    expect(parseRange('items=0-1', 100)).toEqual({ kind: 'whole' });
    expect(parseRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
  });
});

describe('trusted output hosts', () => {
  const sources = (env: Record<string, string> = {}) =>
    new ArtifactSources(
      loadAppConfig({ SIMPLETUNER_ENTERPRISE_CONFIG: '', REPLICATE_API_BASE: 'https://api.replicate.com/v1', ...env }),
    );

  it('are the provider API host and the listed hosts (replicate.delivery and its subdomains by default)', () => {
    const s = sources();
    expect(s.isTrusted('https://replicate.delivery/a/b.bin', 'replicate')).toBe(true);
    expect(s.isTrusted('https://pbxt.replicate.delivery/a/b.bin', 'replicate')).toBe(true);
    expect(s.isTrusted('https://api.replicate.com/v1/files/x', 'replicate')).toBe(true);
    expect(s.isTrusted('https://api.replicate.com/v1/files/x', 'onprem')).toBe(false);
    expect(s.isTrusted('https://evilreplicate.delivery/a', 'replicate')).toBe(false);
    expect(s.isTrusted('https://replicate.delivery.evil.example/a', 'replicate')).toBe(false);
    expect(s.isTrusted('http://169.254.169.254/latest/meta-data', 'replicate')).toBe(false);
    expect(s.isTrusted('file:///etc/passwd', 'replicate')).toBe(false);
    expect(s.isTrusted('not a url', 'replicate')).toBe(false);
  });

  it('match a port when the entry names one', () => {
    const s = sources({ SIMPLETUNER_ARTIFACT_SOURCE_HOSTS: 'files.example.com:8443, *.cdn.example' });
    expect(s.isTrusted('https://files.example.com:8443/x', 'replicate')).toBe(true);
    expect(s.isTrusted('https://files.example.com/x', 'replicate')).toBe(false);
    expect(s.isTrusted('http://a.b.cdn.example/x', 'replicate')).toBe(true);
    expect(s.isTrusted('https://replicate.delivery/x', 'replicate')).toBe(false);
  });

  it('refuses a list entry that is not a host at boot', () => {
    expect(() => sources({ SIMPLETUNER_ARTIFACT_SOURCE_HOSTS: 'https://x.example/path' })).toThrow(
      /SIMPLETUNER_ARTIFACT_SOURCE_HOSTS: must be host names/,
    );
    expect(() => sources({ SIMPLETUNER_ARTIFACT_S3_BUCKET: 'b' })).toThrow(
      /SIMPLETUNER_ARTIFACT_S3_BUCKET: needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
  });
});
