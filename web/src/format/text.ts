/** "Workers" → "workers" inside a sentence; an acronym stays as it is ("API keys"). */
export const inSentence = (noun: string): string =>
  /^[A-Z][a-z]/.test(noun) ? noun[0]!.toLowerCase() + noun.slice(1) : noun;
