/** The report formats, on their own: the audit command lists them without loading the reporters. */
export const FORMATS = ['text', 'json', 'sarif', 'junit', 'github', 'checkstyle'] as const
export type Format = (typeof FORMATS)[number]
