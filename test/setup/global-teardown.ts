export default async function globalTeardown(): Promise<void> {
  await Promise.all((globalThis.__SLUICE_TEST_SERVERS__ ?? []).map((server) => server.stop()));
}
