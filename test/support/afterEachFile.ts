import { stopEverything } from './cleanup';

// Runs after every test file, whether its tests passed, failed or timed out.
afterAll(() => stopEverything());
