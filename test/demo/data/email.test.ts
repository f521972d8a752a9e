import { describe, expect, it } from 'vitest';
import { emailPrompt, reduceEmail } from '../../../demo/data/email';

describe('reduceEmail', () => {
  it('keeps the decoded subject and the plain body, without long URLs, encoded runs or rulers', () => {
    // Prepare
    const raw = [
      'From someone@example.com  Thu Aug 22 13:17:22 2002',
      'Return-Path: <someone@example.com>',
      'Subject: =?iso-8859-1?Q?Caf=E9?=',
      '  news for you',
      'Content-Type: text/plain; charset="us-ascii"',
      '',
      'Hello   there,',
      '',
      '',
      '',
      'See http://www.example.com/a/very/long/path/that/goes/on/and/on?x=1 today.',
      'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5eg==',
      '-----------------',
      'Bye',
    ].join('\n');

    // Act
    const email = reduceEmail(raw);

    // Assess
    expect(email).toEqual({
      subject: 'Café news for you',
      body: 'Hello there,\n\nSee http://www.example.com/... today.\n\nBye',
    });
  });

  it('reads a base64 HTML alternative as text: no tags, styles or comments, entities decoded', () => {
    // Prepare
    const html = Buffer.from(
      '<html><head><style>p{color:red}</style></head><body><p>Dear&nbsp;friend &amp; partner,</p>' +
        '<!-- hidden --><p>CLICK <a href="http://x.example">HERE</a> &#36;50</p></body></html>',
    ).toString('base64');
    const raw = [
      'Subject: Offer',
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      'preamble',
      '--b1',
      'Content-Type: text/html; charset=iso-8859-1',
      'Content-Transfer-Encoding: base64',
      '',
      html.slice(0, 60),
      html.slice(60),
      '--b1--',
    ].join('\n');

    // Act
    const email = reduceEmail(raw);

    // Assess
    expect(email).toEqual({ subject: 'Offer', body: 'Dear friend & partner,\nCLICK HERE $50' });
  });

  it('prefers the plain part of nested multiparts and decodes quoted-printable in its charset', () => {
    // Prepare
    const raw = [
      'Subject: Re: [ILUG] cases',
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary="inner"',
      '',
      '--inner',
      'Content-Type: text/html',
      '',
      '<b>html</b>',
      '--inner',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Caf=E9 au lait costs =A35, a long line that is soft-=',
      'broken here.',
      '--inner--',
      '--outer',
      'Content-Type: application/octet-stream',
      '',
      'xxxx',
      '--outer--',
    ].join('\n');

    // Act
    const email = reduceEmail(raw);

    // Assess
    expect(email).toEqual({
      subject: 'Re: [ILUG] cases',
      body: 'Café au lait costs £5, a long line that is soft-broken here.',
    });
  });

  it('has an empty body when no part is text', () => {
    // Prepare
    const raw = 'Subject: Scan\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n';

    // Act
    const email = reduceEmail(raw);

    // Assess
    expect(email).toEqual({ subject: 'Scan', body: '' });
  });
});

describe('emailPrompt', () => {
  it('is the subject line and the body when they fit', () => {
    // Act
    const prompt = emailPrompt({ subject: 'Hi', body: 'one two' }, 100);

    // Assess
    expect(prompt).toBe('Subject: Hi\n\none two');
  });

  it('cuts at the last word boundary within the limit', () => {
    // Act
    const prompt = emailPrompt({ subject: 'Hi', body: 'one two three four five six seven' }, 24);

    // Assess
    expect(prompt).toBe('Subject: Hi\n\none two');
  });

  it('cuts inside a word when the last boundary is far back, never past the limit', () => {
    // Act
    const prompt = emailPrompt({ subject: 'Hi', body: `a ${'x'.repeat(50)}` }, 30);

    // Assess
    expect(prompt).toBe(`Subject: Hi\n\na ${'x'.repeat(15)}`);
    expect(prompt).toHaveLength(30);
  });
});
