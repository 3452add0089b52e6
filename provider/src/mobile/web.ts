import { Router } from 'express';
import { layout } from '../http/html.js';

/**
 * The phone web app's entry points: `/app` and `/q/:qrId` (what a plain phone camera opens
 * from the QR) serve the same shell; the script reads the qrId from the path.
 */
export function phoneWebRoutes(): Router {
  const router = Router();
  const shell = layout('Saoma', `<main id="app" class="card phone"><noscript>Saoma needs JavaScript.</noscript></main>`, {
    scripts: ['/static/app/app.js'],
  });
  router.get(['/app', '/app/', '/q/:qrId'], (_req, res) => {
    res.set('Cache-Control', 'no-store').type('html').send(shell);
  });
  return router;
}
