import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config';
import { defaultSubject, mintDevToken } from '../identity/authenticator';
import { ROLES, Role } from '../identity/roles';
import { CliError, EXIT } from './cli-support';

const SUBJECT = /^[\x21-\x7e]{1,128}$/;

/** `converge token --role <role>`: a development token on stdout and nothing else (`TOKEN=$(npx converge token ...)`). */
export function tokenCommand(): Command {
  return new Command('token')
    .description('mint a development bearer token signed with the development key (AUTH_DEV_KEY or .converge/dev-signing-key)')
    .addOption(new Option('--role <role>', 'the role the token carries').choices(ROLES).makeOptionMandatory())
    .addOption(
      new Option('--sub <id>', 'the subject (a customer: its customer id); default dev-<role>, cust-42 for customer').argParser(subject),
    )
    .addOption(new Option('--ttl <seconds>', 'lifetime in seconds').default(3600).argParser(seconds))
    .action(async (options: { role: Role; sub?: string; ttl: number }) => {
      const config = loadConfig();
      if (config.identity.jwksUrl) {
        throw new CliError('AUTH_JWKS_URL is set: tokens come from the identity provider, not from converge token', EXIT.usage);
      }
      const token = await mintDevToken(config.identity, {
        role: options.role,
        subject: options.sub ?? defaultSubject(options.role),
        ttlSeconds: options.ttl,
      });
      process.stdout.write(`${token}\n`);
    });
}

function subject(value: string): string {
  if (!SUBJECT.test(value)) throw new InvalidArgumentError('must be 1-128 printable ASCII characters without spaces');
  return value;
}

function seconds(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < 1 || parsed > 31_536_000)
    throw new InvalidArgumentError('must be a whole number of seconds, 1 to 31536000');
  return parsed;
}
