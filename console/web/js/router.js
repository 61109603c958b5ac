// Hash routes: "#/alerts/abc?status=new" → {page: 'alerts', id: 'abc', params}.
export function currentRoute() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, search = ''] = hash.split('?');
  const [page = '', ...rest] = path.split('/').map((part) => decodeURIComponent(part));
  return { page: page || 'posture', id: rest.join('/') || undefined, params: new URLSearchParams(search) };
}

export function href(page, id, params) {
  const search = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')).toString() : '';
  return `#/${page}${id ? `/${encodeURIComponent(id)}` : ''}${search ? `?${search}` : ''}`;
}

export function navigate(page, id, params) {
  const next = href(page, id, params);
  if (location.hash === next) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = next;
}
