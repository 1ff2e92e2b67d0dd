// The database the postgres connector's tests read: a real PostgreSQL 15 server started by the
// test process (tests/support/postgres_server.h), seeded with tables covering every mapped type.
#pragma once

#include <libpq-fe.h>

#include <stdexcept>
#include <string>

#include "lakeflow/options.h"
#include "support/postgres_server.h"

namespace lakeflow::postgres::testing {

// Runs `sql` (one or more statements) on the server; throws std::runtime_error on failure.
inline void run_sql(const test_support::PostgresServer& server, const std::string& sql) {
  PGconn* conn = PQconnectdb(server.conninfo().c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("test sql: cannot connect: " + message);
  }
  PGresult* result = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  const std::string message = PQresultErrorMessage(result);
  PQclear(result);
  PQfinish(conn);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("test sql failed: " + message + "\n" + sql.substr(0, 300));
  }
}

// The seed: `public.items` (one column of every mapped type, 40 rows), `public.orders` (a
// composite key, 23 rows), and in schema `extra` a table without a key and a view.
inline const char* kSeedSql = R"sql(
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE DOMAIN money2 AS numeric(12,2);
CREATE TABLE public.items (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  code varchar(20),
  letter char(3),
  small smallint,
  qty integer,
  price numeric(10,2),
  big numeric(50,5),
  free numeric,
  weight double precision,
  ratio real,
  active boolean,
  payload bytea,
  born date,
  seen timestamp,
  at timestamptz,
  clock time,
  wait interval,
  uid uuid,
  doc jsonb,
  raw json,
  tags text[],
  scores integer[],
  feeling mood,
  rank positive_int,
  cost money2
);
INSERT INTO public.items
SELECT i, 'item ' || i, 'C' || i, 'ab', (i % 100)::smallint, i * 3, i * 1.25, 123456789012345678901234567890.12345 + i,
       i::numeric / 7, i * 0.1, (i * 0.5)::real, i % 2 = 0, decode(lpad(to_hex(i), 4, '0'), 'hex'),
       date '2024-01-01' + i, timestamp '2024-01-01 10:00:00.123456' + i * interval '1 hour',
       timestamptz '2024-01-01 10:00:00+02' + i * interval '1 minute', time '12:34:56' , i * interval '1 day',
       ('00000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid,
       jsonb_build_object('n', i, 'tags', jsonb_build_array('a', i)), ('{"k": ' || i || '}')::json,
       ARRAY['x' || i, 'with "quote"', 'with,comma'], ARRAY[i, NULL, -i],
       (ARRAY['sad','ok','happy'])[1 + i % 3]::mood, i, i + 0.5
FROM generate_series(1, 40) AS i;
CREATE TABLE public.orders (
  region text,
  order_no integer,
  amount numeric(12,2) NOT NULL,
  note text,
  PRIMARY KEY (region, order_no)
);
INSERT INTO public.orders SELECT (ARRAY['eu','us','apac'])[1 + i % 3], i, i * 10.5, 'order ' || i
FROM generate_series(1, 23) AS i;
CREATE SCHEMA extra;
CREATE TABLE extra.events (kind text, at timestamptz);
INSERT INTO extra.events VALUES ('start', '2024-01-01T00:00:00Z'), ('stop', '2024-01-02T00:00:00Z');
CREATE VIEW extra.expensive AS SELECT id, name, price FROM public.items WHERE price > 40;
)sql";

// The server of this test process (started and seeded on first use).
inline const test_support::PostgresServer& test_server() {
  static const test_support::PostgresServer server = [] {
    test_support::PostgresServer started = test_support::PostgresServer::start();
    run_sql(started, kSeedSql);
    return started;
  }();
  return server;
}

// Connector options for the test server (schemas: public).
inline Options test_options() {
  const test_support::PostgresServer& server = test_server();
  return Options{{"host", server.host()},         {"port", std::to_string(server.port())},
                 {"database", server.database()}, {"user", server.user()},
                 {"password", server.password()}, {"sslmode", "disable"}};
}

}  // namespace lakeflow::postgres::testing
