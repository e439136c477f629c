import { WebhookUrlPolicy } from './url-policy';

describe('WebhookUrlPolicy', () => {
  const strict = new WebhookUrlPolicy();

  it('takes public http and https URLs', () => {
    expect(strict.urlProblem('https://hooks.example.com/chronicle?x=1')).toBeUndefined();
    expect(strict.urlProblem('http://93.184.216.34:8080/in')).toBeUndefined();
    expect(strict.addressProblem('hooks.example.com', '93.184.216.34')).toBeUndefined();
    expect(strict.addressProblem('hooks.example.com', '2606:2800:220:1:248:1893:25c8:1946')).toBeUndefined();
  });

  it('refuses other schemes, credentials, fragments and what is not a URL', () => {
    expect(strict.urlProblem('ftp://example.com/')).toBe('must be an http or https URL');
    expect(strict.urlProblem('https://user:pw@example.com/')).toBe('must not carry credentials (sign with the secret instead)');
    expect(strict.urlProblem('https://example.com/#x')).toBe('must not have a fragment');
    expect(strict.urlProblem('example.com/hook')).toBe('must be an absolute http or https URL');
  });

  it.each([
    ['127.0.0.1'],
    ['10.1.2.3'],
    ['172.20.0.1'],
    ['192.168.1.1'],
    ['169.254.169.254'],
    ['100.64.0.1'],
    ['0.0.0.0'],
    ['::1'],
    ['fe80::1'],
    ['fd00::1'],
    ['::ffff:127.0.0.1'],
    ['::ffff:169.254.169.254'],
  ])('refuses %s, a non-public address, as a literal and as what a name resolves to', (address) => {
    const literal = address.includes(':') ? `http://[${address}]/` : `http://${address}/`;
    expect(strict.urlProblem(literal)).toMatch(/is not a public address; WEBHOOK_ALLOWED_HOSTS must name/);
    expect(strict.addressProblem('hooks.example.com', address)).toBe(
      `hooks.example.com resolves to ${address}, which is not a public address; WEBHOOK_ALLOWED_HOSTS must name the host or the address`,
    );
  });

  it('refuses localhost by name', () => {
    expect(strict.urlProblem('http://localhost:3000/')).toBe('localhost is a loopback name; WEBHOOK_ALLOWED_HOSTS must name it');
    expect(strict.urlProblem('http://api.localhost/')).toBe('api.localhost is a loopback name; WEBHOOK_ALLOWED_HOSTS must name it');
  });

  it('lets WEBHOOK_ALLOWED_HOSTS name hosts, addresses and CIDRs', () => {
    const policy = new WebhookUrlPolicy(['localhost', '127.0.0.1', '10.0.0.0/8', 'fd00::/8', 'internal.example']);
    expect(policy.urlProblem('http://localhost:9000/')).toBeUndefined();
    expect(policy.urlProblem('http://127.0.0.1:9000/')).toBeUndefined();
    expect(policy.urlProblem('http://[::ffff:127.0.0.1]:9000/')).toBeUndefined();
    expect(policy.addressProblem('svc', '10.9.8.7')).toBeUndefined();
    expect(policy.addressProblem('svc', 'fd12::3')).toBeUndefined();
    expect(policy.addressProblem('internal.example', '192.168.0.5')).toBeUndefined();
    expect(policy.addressProblem('INTERNAL.example.', '192.168.0.5')).toBeUndefined();
    // Only what is named: another private address stays refused.
    expect(policy.addressProblem('svc', '127.0.0.2')).toMatch(/not a public address/);
    expect(policy.addressProblem('svc', '192.168.0.5')).toMatch(/not a public address/);
  });
});
