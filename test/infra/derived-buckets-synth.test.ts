import { App } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AppContext, buildSluiceApp } from '../../lib/sluice-app';

/** `cdk synth` says what it derived from each limit given in the vendor's words (lib/vendor-limit.ts). */
describe('synth', () => {
  it('prints one line per derived bucket, as an info annotation of the stack', () => {
    const app = new App({ context: { [AppContext.configFile]: 'config/sluice.config.json' } });
    const stack = buildSluiceApp(app);
    const infos = Annotations.fromStack(stack)
      .findInfo('*', Match.stringLikeRegexp('^bucket '))
      .map((message) => message.entry.data);
    expect(infos).toEqual([
      expect.stringMatching(
        /^bucket waitwhile#rps: vendor 5 requests per 1 s, token-bucket → capacity 4, windowSeconds 0\.8 /,
      ),
      expect.stringMatching(
        /^bucket waitwhile#location-writes#\*: vendor 1 requests per 1 s, token-bucket → capacity 1, windowSeconds 1\.05 /,
      ),
    ]);
  });
});
