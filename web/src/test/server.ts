// The msw server every test shares; each test adds the handlers it needs (server.use).
import { setupServer } from "msw/node";

export const server = setupServer();
