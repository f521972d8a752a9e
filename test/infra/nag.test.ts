import { Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import recommendedFlags from 'aws-cdk-lib/recommended-feature-flags.json';
import { describe, expect, it } from 'vitest';
import cdkJson from '../../cdk.json';
import { testApp } from './helpers';

describe('cdk-nag and feature flags', () => {
  it('synthesizes the default deployment with no AWS Solutions or Serverless finding', () => {
    // Act / Assess: any unacknowledged finding makes synth throw
    expect(() => testApp().app.synth()).not.toThrow();
  });

  it('fails synth naming the rule when a resource breaks one', () => {
    // Prepare
    const { app } = testApp();
    const extra = new Stack(app, 'Extra', { env: { region: 'us-east-1' } });
    new s3.Bucket(extra, 'Plain', { encryption: s3.BucketEncryption.S3_MANAGED });

    // Act / Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
  });

  it("keeps cdk.json's context at the installed aws-cdk-lib's recommended flags", () => {
    // Assess
    expect(cdkJson.context).toEqual({ ...recommendedFlags, 'cli-telemetry': false });
  });
});
