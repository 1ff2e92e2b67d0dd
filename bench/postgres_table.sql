-- The benchmark table of bench/run-postgres: :rows rows of mixed types.
CREATE TABLE public.items (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  price numeric(12,2),
  qty integer,
  weight double precision,
  active boolean,
  created timestamptz,
  day date,
  tags text[]
);
INSERT INTO public.items
SELECT i, 'item number ' || i, (i % 100000) * 0.37, i % 1000, i * 0.001, i % 3 = 0,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second', date '2020-01-01' + i % 3000,
       ARRAY['tag' || i % 10, 'x']
FROM generate_series(1, :rows) AS i;
VACUUM ANALYZE public.items;
