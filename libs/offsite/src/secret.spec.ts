import { inspect } from 'node:util';
import { Secret } from './secret';

describe('Secret', () => {
  const value = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const secret = new Secret(value);
  const config = { endpoint: 'https://s3.example.com', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret };

  it('prints as **redacted** however it is turned into text', () => {
    for (const text of [
      String(secret),
      `${secret}`,
      'key: ' + secret,
      JSON.stringify(config),
      inspect(config),
      inspect(secret, { depth: 5 }),
      new Error(`failed with ${secret}`).message,
    ]) {
      expect(text).not.toContain(value);
      expect(text).toContain('**redacted**');
    }
  });

  it('gives the value only when revealed', () => {
    expect(secret.reveal()).toBe(value);
  });

  it('scrubs a secret out of a message from elsewhere', () => {
    expect(Secret.scrub(`SignatureDoesNotMatch for ${value} and ${value}`, [secret])).toBe(
      'SignatureDoesNotMatch for **redacted** and **redacted**',
    );
    expect(Secret.scrub('nothing here', [new Secret('')])).toBe('nothing here');
  });
});
