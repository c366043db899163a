import { unwrap, type Schemas } from '@studiovault/api-client';

export type Problem = Schemas['ProblemDto'];

/** The open problems (what needs a person), shared by the banner on every page and the alerts page. */
export function useProblems() {
  const api = useApi();
  const problems = useState<Problem[] | null>('sv-problems', () => null);

  async function load(): Promise<void> {
    try {
      problems.value = unwrap(await api.GET('/api/problems'));
    } catch {
      // The banner stays as it was; the page's own calls show connection errors.
    }
  }

  return { problems, load };
}
