/** The deploy step ids (steps.ts), light enough for the CLI's help and --from. */
export const DEPLOY_STEP_IDS = ['build', 'inspect', 'copy', 'switch', 'check', 'confirm'] as const;
