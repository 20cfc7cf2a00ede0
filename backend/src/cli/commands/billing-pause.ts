import { pauseRun } from '../../billing/runs';
import { billingRunActionCommand } from '../billing-run-action';

export default billingRunActionCommand('billing:pause', 'Pause a running billing run: nodes stop sending within a second', pauseRun);
