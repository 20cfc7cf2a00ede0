/**
 * The operator dashboard: server-rendered pages (Hono JSX) made live with htmx, one router per
 * page. Every .tsx file starts with a JSX pragma because tsx (npm run backend:dev, npm start) reads
 * the tsconfig of the working directory, not backend/tsconfig.json.
 */
import { Hono } from 'hono';
import { assetRoutes } from './assets';
import type { DashboardContext } from './context';
import { attemptPages } from './pages/attempts';
import { auditPage } from './pages/audit';
import { blacklistPage } from './pages/blacklist';
import { deadLetterPage } from './pages/dead-letters';
import { debtorsPage } from './pages/debtors';
import { eventPages } from './pages/events';
import { loginPages } from './pages/login';
import { personalDataPage } from './pages/personal-data';
import { reviewPage } from './pages/review';
import { reportPages } from './pages/reports';
import { operatorPages } from './pages/operators';
import { runPages } from './pages/runs';
import { statusPage } from './pages/status';
import { uploadPages } from './pages/uploads';

export function dashboardRoutes(context: DashboardContext) {
  const app = new Hono();
  app.route('/', assetRoutes());
  app.route('/', loginPages(context.auth));
  app.get('/', (c) => c.redirect('/dashboard', 303));
  app.route('/', statusPage(context));
  app.route('/', uploadPages(context));
  app.route('/', debtorsPage(context));
  app.route('/', attemptPages(context));
  app.route('/', runPages(context));
  app.route('/', blacklistPage(context));
  app.route('/', deadLetterPage(context));
  app.route('/', eventPages(context));
  app.route('/', reviewPage(context));
  app.route('/', personalDataPage(context));
  app.route('/', reportPages(context));
  app.route('/', auditPage(context));
  app.route('/', operatorPages(context));
  return app;
}
