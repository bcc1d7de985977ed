// A BI client's read of the published warehouse, as canonical JSON (tests/test_clients.py):
// Node's @duckdb/node-api, the same read and the same JSON as tests/clients/read_marts.py.
//
//     node tests/clients/read_marts.mjs WAREHOUSE [--hold]
//
// The package is loaded from DUCKDB_NODE_CLIENT (default: .clients/node of the repository, where
// scripts/clients/duckdb installs it from tests/clients/node/package-lock.json).
//
// Values are converted by the API's JS converter (getRowsJS: BIGINT as BigInt, DOUBLE as number,
// LIST as array, NULL as null) and written as JSON by hand: JSON.stringify cannot write a BigInt,
// writes -0 as 0 and NaN or Infinity as null. Integers are written in full, doubles as the
// shortest decimal that reads back as the same double (Number#toString), -0 as -0.0,
// non-finite doubles as the strings "NaN", "Infinity", "-Infinity". Any other value fails.

import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const clientDir = process.env.DUCKDB_NODE_CLIENT ?? path.join(here, '..', '..', '.clients', 'node');
const require = createRequire(path.join(path.resolve(clientDir), 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const { version } = require('@duckdb/node-api/package.json');

const TABLES =
  'SELECT table_name FROM information_schema.tables' +
  " WHERE table_schema = 'marts' AND table_type = 'BASE TABLE' ORDER BY table_name";

function json(value) {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return String(value);
    case 'bigint':
      return value.toString();
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (Number.isNaN(value)) return '"NaN"';
      if (!Number.isFinite(value)) return value > 0 ? '"Infinity"' : '"-Infinity"';
      if (Object.is(value, -0)) return '-0.0';
      return String(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map(json).join(',')}]`;
      break;
  }
  throw new TypeError(`no canonical JSON for ${typeof value} ${String(value)}`);
}

function object(entries) {
  return `{${entries.map(([key, text]) => `${JSON.stringify(key)}:${text}`).join(',')}}`;
}

async function readJson(con) {
  const engine = (await con.runAndReadAll('SELECT version()')).getRowsJS()[0][0];
  await con.run('BEGIN TRANSACTION');
  try {
    const tables = (await con.runAndReadAll(TABLES)).getRowsJS().map(([name]) => name);
    const marts = [];
    for (const name of tables) {
      const quoted = `"${name.replaceAll('"', '""')}"`;
      const reader = await con.runAndReadAll(`SELECT * FROM marts.${quoted} ORDER BY ALL`);
      const rows = reader.getRowsJS().map((row) => `[${row.map(json).join(',')}]`);
      marts.push([
        name,
        object([
          ['columns', json(reader.columnNames())],
          ['types', json(reader.columnTypes().map((t) => t.toString()))],
          ['rows', `[${rows.join(',')}]`],
        ]),
      ]);
    }
    return object([
      ['client', json(`node @duckdb/node-api ${version}`)],
      ['engine', json(engine)],
      ['tables', json(tables)],
      ['marts', object(marts)],
    ]);
  } finally {
    await con.run('COMMIT');
  }
}

const [warehouse, ...flags] = process.argv.slice(2);
const instance = await DuckDBInstance.create(warehouse, { access_mode: 'READ_ONLY' });
const con = await instance.connect();
try {
  process.stdout.write(`${await readJson(con)}\n`);
  if (flags.includes('--hold')) {
    const lines = createInterface({ input: process.stdin });
    await new Promise((resolve) => {
      lines.once('line', resolve);
      lines.once('close', resolve);
    });
    lines.close();
    process.stdout.write(`${await readJson(con)}\n`);
  }
} finally {
  con.closeSync();
  instance.closeSync();
}
