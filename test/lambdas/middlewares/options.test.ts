import { describe, expect, it } from 'vitest';
import { authorization } from '../../../lambdas/middlewares/authorization';
import { errorHandler } from '../../../lambdas/middlewares/error-handler';
import { requestParser } from '../../../lambdas/middlewares/request-parser';

describe('middleware options', () => {
  it('refuse unknown options when the handler is built, naming them', () => {
    // Act
    const unknown = () => errorHandler({ logr: () => undefined } as never);
    const badValue = () => requestParser({ body: 'xml' } as never);
    const noRoles = () => authorization({ action: 'do things', roles: [] });

    // Assess
    expect(unknown).toThrow('errorHandler: invalid option logr: Unrecognized key: "logr"');
    expect(badValue).toThrow(/^requestParser: invalid option body: /);
    expect(noRoles).toThrow(/^authorization: invalid option roles: /);
  });

  it('build named hooks', () => {
    // Act
    const handler = errorHandler();
    const parser = requestParser();

    // Assess
    expect(handler.onError?.name).toBe('errorHandlerOnError');
    expect(parser.before?.name).toBe('requestParserBefore');
  });
});
