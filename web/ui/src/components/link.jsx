import { navigate } from '../base.js';

/** A link to another page (`path`, relative) that does not reload the interface. */
export function PageLink({ path, search = '', children, ...rest }) {
  const onClick = (e) => {
    if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(path, search);
  };
  return (
    <a href={path + search} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
