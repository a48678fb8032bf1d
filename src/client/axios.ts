/**
 * `jwt-sessions/client/axios`: the session client's behaviour for an axios instance, as a pair of
 * interceptors (request: wait for a refresh in flight, add the credentials; response: pick up a
 * renewed token, refresh once on an expired one and send the request again, once).
 *
 *   const auth = createSessionClient({ baseUrl: '/auth', transport: 'cookie' });
 *   const api = axios.create();
 *   const detach = attachSessionClient(api, auth);
 */
import type { AxiosError, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import type { SessionClient } from './index.js';

interface Marked extends InternalAxiosRequestConfig {
  /** What the client needs to judge the response (the generation the request was sent with). */
  _jwtSessionTicket?: unknown;
  /** Set once the request has been sent again after a refresh: never a second time. */
  _jwtSessionRetried?: boolean;
}

const header = (response: AxiosResponse, name: string) => {
  const value = response.headers?.[name];
  return typeof value === 'string' ? value : null;
};

/** Installs the interceptors on `instance`; returns a function that removes them. */
export function attachSessionClient(instance: AxiosInstance, client: SessionClient): () => void {
  const { beforeRequest, afterResponse } = client.interceptors;

  const request = instance.interceptors.request.use(async (config: Marked) => {
    if (client.transport === 'cookie') config.withCredentials = true;
    // On a retry this replaces the previous attempt's token with the current one.
    config._jwtSessionTicket = await beforeRequest(
      config.method ?? 'get',
      (name, value) => {
        config.headers.set(name, value);
      },
      instance.getUri(config),
    );
    return config;
  });

  /** The response, or the answer of the request sent once more after a refresh. */
  const settle = async (response: AxiosResponse): Promise<AxiosResponse | null> => {
    const config = response.config as Marked;
    const retry = await afterResponse(
      config._jwtSessionTicket,
      response.status,
      (name) => header(response, name),
      async () => {
        const code = (response.data as { code?: unknown } | null)?.code;
        return typeof code === 'string' ? code : `http_${response.status}`;
      },
      config._jwtSessionRetried,
    );
    if (!retry) return null;
    config._jwtSessionRetried = true;
    return instance.request(config);
  };

  const response = instance.interceptors.response.use(
    async (answer) => (await settle(answer)) ?? answer,
    async (error: AxiosError) => {
      const again = error.response ? await settle(error.response) : null;
      if (again === null) throw error;
      return again;
    },
  );

  return () => {
    instance.interceptors.request.eject(request);
    instance.interceptors.response.eject(response);
  };
}
