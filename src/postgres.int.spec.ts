import { createPool } from './postgres';
import { PG_BASE_URL } from '../test/support/env';

const nameOf = async (url: string, clientName?: string) => {
  const pool = createPool(url, { max: 1, clientName });
  try {
    return (await pool.query<{ name: string }>("SELECT current_setting('application_name') AS name")).rows[0].name;
  } finally {
    await pool.end();
  }
};

describe('createPool', () => {
  const url = PG_BASE_URL;

  it('names its connections after the process, so operators can tell them apart in pg_stat_activity', async () => {
    expect(await nameOf(url, 'converge relay')).toBe('converge relay');
  });

  it('leaves the name to the URL when the URL sets one', async () => {
    const named = new URL(url);
    named.searchParams.set('application_name', 'billing-report');
    expect(await nameOf(named.toString(), 'converge relay')).toBe('billing-report');
  });
});
