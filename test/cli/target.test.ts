import { describe, expect, it } from 'vitest';
import { credentialsPath, resolveTarget, TargetNotFoundError, userConfigPath } from '../../lib/cli/target';

const home = '/home/ada';
const cwd = '/work/project';
const configPath = '/home/ada/.config/whetstone/config.json';
const localCredentialsPath = '/work/project/.whetstone/credentials';

function files(contents: Record<string, unknown>) {
  const read: string[] = [];
  const readFile = (path: string) => {
    read.push(path);
    const content = contents[path];
    return content === undefined
      ? undefined
      : typeof content === 'string'
        ? content
        : JSON.stringify(content);
  };
  return { readFile, read };
}

const userConfig = { url: 'http://config.example', api_key: 'whet_config' };
const credentials = { url: 'http://credentials.example', api_key: 'whet_credentials', team: 'default' };
const env = { HOME: home, WHETSTONE_URL: 'http://env.example', WHETSTONE_API_KEY: 'whet_env' };

describe('resolveTarget', () => {
  it('takes the flags before everything else', () => {
    // Prepare
    const { readFile, read } = files({ [configPath]: userConfig, [localCredentialsPath]: credentials });

    // Act
    const target = resolveTarget({ url: 'http://flag.example', apiKey: 'whet_flag' }, env, readFile, { cwd });

    // Assess
    expect(target).toEqual({
      url: 'http://flag.example',
      apiKey: 'whet_flag',
      sources: { url: { kind: 'flag' }, apiKey: { kind: 'flag' } },
    });
    expect(read).toEqual([]);
  });

  it('takes the environment when no flag is given', () => {
    // Prepare
    const { readFile, read } = files({ [configPath]: userConfig, [localCredentialsPath]: credentials });

    // Act
    const target = resolveTarget({}, env, readFile, { cwd });

    // Assess
    expect(target).toEqual({
      url: 'http://env.example',
      apiKey: 'whet_env',
      sources: { url: { kind: 'env' }, apiKey: { kind: 'env' } },
    });
    expect(read).toEqual([]);
  });

  it('takes the user config before the local credentials', () => {
    // Prepare
    const { readFile, read } = files({ [configPath]: userConfig, [localCredentialsPath]: credentials });

    // Act
    const target = resolveTarget({}, { HOME: home }, readFile, { cwd });

    // Assess
    expect(target).toEqual({
      url: 'http://config.example',
      apiKey: 'whet_config',
      sources: {
        url: { kind: 'user-config', path: configPath },
        apiKey: { kind: 'user-config', path: configPath },
      },
    });
    expect(read).toEqual([configPath]);
  });

  it('takes the local credentials when nothing else is there', () => {
    // Prepare
    const { readFile, read } = files({ [localCredentialsPath]: credentials });

    // Act
    const target = resolveTarget({}, { HOME: home }, readFile, { cwd });

    // Assess
    expect(target).toEqual({
      url: 'http://credentials.example',
      apiKey: 'whet_credentials',
      sources: {
        url: { kind: 'credentials', path: localCredentialsPath },
        apiKey: { kind: 'credentials', path: localCredentialsPath },
      },
    });
    expect(read).toEqual([configPath, localCredentialsPath]);
  });

  it('resolves the URL and the key each on its own', () => {
    // Prepare
    const { readFile } = files({
      [configPath]: { api_key: 'whet_config' },
      [localCredentialsPath]: credentials,
    });

    // Act
    const fromFlagAndConfig = resolveTarget({ url: 'http://flag.example' }, { HOME: home }, readFile, {
      cwd,
    });
    const fromEnvAndFlag = resolveTarget(
      { apiKey: 'whet_flag' },
      { HOME: home, WHETSTONE_URL: 'http://env.example' },
      readFile,
      { cwd },
    );
    const fromCredentialsAndConfig = resolveTarget({}, { HOME: home }, readFile, { cwd });

    // Assess
    expect(fromFlagAndConfig).toEqual({
      url: 'http://flag.example',
      apiKey: 'whet_config',
      sources: { url: { kind: 'flag' }, apiKey: { kind: 'user-config', path: configPath } },
    });
    expect(fromEnvAndFlag).toEqual({
      url: 'http://env.example',
      apiKey: 'whet_flag',
      sources: { url: { kind: 'env' }, apiKey: { kind: 'flag' } },
    });
    expect(fromCredentialsAndConfig).toEqual({
      url: 'http://credentials.example',
      apiKey: 'whet_config',
      sources: {
        url: { kind: 'credentials', path: localCredentialsPath },
        apiKey: { kind: 'user-config', path: configPath },
      },
    });
  });

  it('treats empty flags and variables as not given and trims the rest', () => {
    // Prepare
    const { readFile } = files({ [configPath]: userConfig });

    // Act
    const target = resolveTarget(
      { url: '', apiKey: '  whet_flag\n' },
      { HOME: home, WHETSTONE_URL: ' ', WHETSTONE_API_KEY: '' },
      readFile,
      { cwd },
    );

    // Assess
    expect(target.url).toBe('http://config.example');
    expect(target.apiKey).toBe('whet_flag');
  });

  it('finds the user config under XDG_CONFIG_HOME and the credentials under WHETSTONE_DATA_DIR', () => {
    // Prepare
    const placesEnv = { HOME: home, XDG_CONFIG_HOME: '/xdg', WHETSTONE_DATA_DIR: 'state/whet' };
    const { readFile } = files({
      '/xdg/whetstone/config.json': { url: 'http://xdg.example', api_key: 'whet_xdg' },
      '/work/project/state/whet/credentials': credentials,
    });

    // Act
    const paths = [userConfigPath(placesEnv), credentialsPath(placesEnv, { cwd })];
    const fromConfig = resolveTarget({}, placesEnv, readFile, { cwd });
    const fromCredentials = resolveTarget({}, { ...placesEnv, XDG_CONFIG_HOME: '/elsewhere' }, readFile, {
      cwd,
    });

    // Assess
    expect(paths).toEqual(['/xdg/whetstone/config.json', '/work/project/state/whet/credentials']);
    expect(fromConfig.url).toBe('http://xdg.example');
    expect(fromCredentials.url).toBe('http://credentials.example');
    expect(userConfigPath({}, { home: '/home/os' })).toBe('/home/os/.config/whetstone/config.json');
  });

  it('names the four ways when nothing gives a URL or key', () => {
    // Prepare
    const { readFile } = files({});

    // Act
    const resolve = () => resolveTarget({}, { HOME: home }, readFile, { cwd });

    // Assess
    expect(resolve).toThrow(TargetNotFoundError);
    expect(resolve).toThrow(
      [
        'No Whetstone URL and API key found. Give them in one of four ways:',
        '  1. the --url and --api-key options;',
        '  2. the WHETSTONE_URL and WHETSTONE_API_KEY environment variables;',
        `  3. \`whet login --url URL --api-key KEY\`, which saves them in ${configPath};`,
        `  4. ${localCredentialsPath}, which \`whet start\` writes (WHETSTONE_DATA_DIR names another data dir).`,
      ].join('\n'),
    );
  });

  it('says which of the two is missing', () => {
    // Prepare
    const { readFile } = files({});

    // Act
    const withoutKey = () => resolveTarget({ url: 'http://flag.example' }, { HOME: home }, readFile, { cwd });
    const withoutUrl = () => resolveTarget({}, { HOME: home, WHETSTONE_API_KEY: 'k' }, readFile, { cwd });

    // Assess
    expect(withoutKey).toThrow(/^No Whetstone API key found\. Give it in one of four ways:\n/);
    expect(withoutUrl).toThrow(/^No Whetstone URL found\. Give it in one of four ways:\n/);
  });

  it('refuses a config file that is not JSON or not a Whetstone config', () => {
    // Prepare
    const broken = files({ [configPath]: '{"url": ' });
    const foreign = files({
      [configPath]: { url: 'http://config.example' },
      [localCredentialsPath]: { url: 3 },
    });

    // Act
    const fromBroken = () => resolveTarget({}, { HOME: home }, broken.readFile, { cwd });
    const fromForeign = () => resolveTarget({}, { HOME: home }, foreign.readFile, { cwd });
    const withFlags = resolveTarget({ url: 'http://a', apiKey: 'k' }, { HOME: home }, broken.readFile, {
      cwd,
    });

    // Assess
    expect(fromBroken).toThrow(new RegExp(`^${configPath} is not valid JSON \\(`));
    expect(fromForeign).toThrow(
      `${localCredentialsPath} is not a Whetstone config: url: Invalid input: expected string, received number.`,
    );
    expect(withFlags.url).toBe('http://a');
  });
});
